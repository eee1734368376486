//! PostgreSQL's lexical structure: a script as a sequence of [`Token`]s.
//!
//! [`tokens`] follows the rules of PostgreSQL's own scanner (see [the manual's *Lexical
//! Structure*](https://www.postgresql.org/docs/current/sql-syntax-lexical.html)), so that
//! everything in trek that reads SQL (the statement [splitter](crate::split), the directive
//! reader, `trek::lint`) sees the same words, strings and comments PostgreSQL will:
//!
//! - identifiers and key words: `[A-Za-z_]` or any non-ASCII character, then those, digits and
//!   `$` (`a$b` is one word, so no dollar quote opens inside it);
//! - quoted identifiers `"…"` (a doubled `""` stands for one) and `U&"…"`;
//! - string constants `'…'` (a doubled `''` stands for one; a backslash is an ordinary
//!   character, as with `standard_conforming_strings = on`, the default since PostgreSQL 9.1),
//!   `E'…'` (backslash escapes), `U&'…'`, `B'…'`, `X'…'`, `N'…'`, and dollar-quoted strings
//!   `$$…$$` and `$tag$…$tag$`. A prefix letter counts only where a token starts:
//!   `date'2024-01-01'` is the word `date` and a plain string, never an `E'…'` string. Two
//!   quoted constants separated by whitespace holding a newline are one constant, as in
//!   PostgreSQL (`E'a'` + newline + `'\''` is one escape string);
//! - numbers (`42`, `1_000`, `0x1F`, `0o17`, `0b101`, `1.5`, `.5`, `1.`, `1e5`, `1.5e-3`),
//!   with any identifier characters that follow (`1abc`, which PostgreSQL rejects as one
//!   token); `$1` parameters;
//! - operators (`+`, `<>`, `||`, `->>`, with PostgreSQL's rules: an operator stops before an
//!   embedded `--` or `/*`, and does not end in `+` or `-` unless it holds one of
//!   `~ ! @ # % ^ & | ` ?`), punctuation (`( ) [ ] , ; : .` and `::`, `:=`, `..`);
//! - `--` comments (up to, not including, the line end), nested `/* */` comments, whitespace.
//!
//! Every byte of the input belongs to exactly one token, in order: the tokens' texts, joined,
//! are the input. Nothing is an error: an unterminated quote or comment runs to the end of the
//! input, and a character PostgreSQL would refuse is a one-character [`TokenKind::Other`].
//!
//! ```
//! use trek_core::lex::{tokens, StringKind, TokenKind};
//!
//! let sql = "SELECT date'2024-01-01', E'it\\'s' -- done";
//! let significant: Vec<_> = tokens(sql).filter(|t| !t.is_trivia()).collect();
//! assert!(significant[0].is_keyword("select"));
//! assert_eq!(significant[1].text, "date");
//! assert_eq!(significant[2].kind, TokenKind::String(StringKind::Standard));
//! assert_eq!(significant[4].text, "E'it\\'s'");
//! assert_eq!(tokens(sql).map(|t| t.text).collect::<String>(), sql);
//! ```

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenKind {
    /// Spaces, tabs, line ends, form feeds and vertical tabs.
    Whitespace,
    /// A `--` comment, up to and not including the line end (`\n` or `\r`).
    LineComment,
    /// A `/* … */` comment, with the comments nested in it.
    BlockComment,
    /// An identifier or key word, as written (PostgreSQL folds it to lower case).
    Word,
    /// A quoted identifier: `"…"` or `U&"…"`.
    QuotedIdent,
    /// A string constant.
    String(StringKind),
    /// A numeric constant.
    Number,
    /// A positional parameter: `$1`.
    Parameter,
    /// An operator: `+`, `-`, `*`, `<>`, `||`, `@>`, ….
    Operator,
    /// `(`, `)`, `[`, `]`, `,`, `;`, `:`, `.`, `::`, `:=` or `..`.
    Punctuation,
    /// A character with no place in SQL outside a quote (`\`, `{`, a `$` that opens neither a
    /// dollar quote nor a parameter): one character.
    Other,
}

/// Which kind of string constant a [`TokenKind::String`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StringKind {
    /// `'…'`.
    Standard,
    /// `E'…'`, with backslash escapes.
    Escape,
    /// `U&'…'`, with Unicode escapes.
    Unicode,
    /// `B'…'`, a bit string.
    Bit,
    /// `X'…'`, a bit string in hexadecimal.
    Hex,
    /// `N'…'`, a national character string.
    National,
    /// `$$…$$` or `$tag$…$tag$`.
    Dollar,
}

/// One token of a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    /// What it is.
    pub kind: TokenKind,
    /// Byte offset of its first character in the text given to [`tokens`].
    pub offset: usize,
    /// Its text, quotes, prefixes and comment markers included.
    pub text: &'a str,
}

impl Token<'_> {
    /// Byte offset just past its last character.
    pub fn end(&self) -> usize {
        self.offset + self.text.len()
    }

    /// Whether it is whitespace or a comment: something PostgreSQL skips.
    pub fn is_trivia(&self) -> bool {
        matches!(
            self.kind,
            TokenKind::Whitespace | TokenKind::LineComment | TokenKind::BlockComment
        )
    }

    /// Whether it is the word `keyword`, in any case (`is_keyword("select")` on `SELECT`).
    pub fn is_keyword(&self, keyword: &str) -> bool {
        self.kind == TokenKind::Word && self.text.eq_ignore_ascii_case(keyword)
    }

    /// Whether it is the operator or punctuation `symbol` (`is_symbol("(")`, `is_symbol("::")`).
    pub fn is_symbol(&self, symbol: &str) -> bool {
        matches!(self.kind, TokenKind::Operator | TokenKind::Punctuation) && self.text == symbol
    }
}

/// The tokens of `sql`, in order, comments and whitespace included (see the [module
/// docs](self)).
pub fn tokens(sql: &str) -> Tokens<'_> {
    Tokens { sql, pos: 0 }
}

/// The iterator [`tokens`] returns.
#[derive(Debug, Clone)]
pub struct Tokens<'a> {
    sql: &'a str,
    pos: usize,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let start = self.pos;
        let (kind, end) = scan(self.sql.as_bytes(), start)?;
        // Every token ends after an ASCII byte or at the end of the input (bytes >= 0x80 only
        // ever belong to words or to the inside of quotes and comments), so on a char boundary.
        let end = end.min(self.sql.len());
        self.pos = end;
        Some(Token {
            kind,
            offset: start,
            text: &self.sql[start..end],
        })
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_cont(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit() || b == b'$'
}

/// Characters that make up operators.
const OP_CHARS: &[u8] = b"~!@#^&|`?+-*/%<>=";

/// The kind and end of the token starting at `start`, `None` at the end of the input.
fn scan(b: &[u8], start: usize) -> Option<(TokenKind, usize)> {
    let at = |i: usize| b.get(i).copied();
    let first = at(start)?;
    let next = at(start + 1);
    Some(match first {
        c if is_space(c) => (TokenKind::Whitespace, run(b, start, is_space)),
        b'-' if next == Some(b'-') => (
            TokenKind::LineComment,
            run(b, start, |c| c != b'\n' && c != b'\r'),
        ),
        b'/' if next == Some(b'*') => (TokenKind::BlockComment, block_comment_end(b, start)),
        b'\'' => (
            TokenKind::String(StringKind::Standard),
            string_end(b, start, false),
        ),
        b'"' => (TokenKind::QuotedIdent, quoted_end(b, start, b'"', false)),
        b'$' => match dollar_tag_end(b, start) {
            Some(tag_end) => (
                TokenKind::String(StringKind::Dollar),
                dollar_quote_end(b, start, tag_end),
            ),
            None if next.is_some_and(|c| c.is_ascii_digit()) => {
                (TokenKind::Parameter, junk_end(b, decimal_end(b, start + 1)))
            }
            None => (TokenKind::Other, start + 1),
        },
        c if is_ident_start(c) => prefixed_quote(b, start)
            .unwrap_or_else(|| (TokenKind::Word, run(b, start + 1, is_ident_cont))),
        c if c.is_ascii_digit() => (TokenKind::Number, number_end(b, start)),
        b'.' if next.is_some_and(|c| c.is_ascii_digit()) => {
            (TokenKind::Number, number_end(b, start))
        }
        b':' if matches!(next, Some(b':' | b'=')) => (TokenKind::Punctuation, start + 2),
        b'.' if next == Some(b'.') => (TokenKind::Punctuation, start + 2),
        b'(' | b')' | b'[' | b']' | b',' | b';' | b':' | b'.' => {
            (TokenKind::Punctuation, start + 1)
        }
        c if OP_CHARS.contains(&c) => (TokenKind::Operator, operator_end(b, start)),
        _ => (TokenKind::Other, start + 1),
    })
}

/// The end of the run of bytes from `from` that satisfy `keep`.
fn run(b: &[u8], from: usize, keep: impl Fn(u8) -> bool) -> usize {
    b[from..]
        .iter()
        .position(|&c| !keep(c))
        .map_or(b.len(), |n| from + n)
}

/// A string or quoted identifier opened by a prefix letter at `start`: `E'`, `B'`, `X'`, `N'`,
/// `U&'` or `U&"`.
fn prefixed_quote(b: &[u8], start: usize) -> Option<(TokenKind, usize)> {
    let letter = b[start].to_ascii_lowercase();
    let kind = match (letter, b.get(start + 1), b.get(start + 2)) {
        (b'u', Some(b'&'), Some(b'"')) => {
            return Some((
                TokenKind::QuotedIdent,
                quoted_end(b, start + 2, b'"', false),
            ));
        }
        (b'u', Some(b'&'), Some(b'\'')) => {
            return Some((
                TokenKind::String(StringKind::Unicode),
                string_end(b, start + 2, false),
            ));
        }
        (_, Some(b'\''), _) => match letter {
            b'e' => StringKind::Escape,
            b'b' => StringKind::Bit,
            b'x' => StringKind::Hex,
            b'n' => StringKind::National,
            _ => return None,
        },
        _ => return None,
    };
    let backslash = kind == StringKind::Escape;
    Some((TokenKind::String(kind), string_end(b, start + 1, backslash)))
}

/// The end of a run quoted by `quote` whose opening quote is at `open`: a doubled quote stands
/// for one and, with `backslash`, a backslash escapes the byte after it. Unterminated: the end
/// of the input.
fn quoted_end(b: &[u8], open: usize, quote: u8, backslash: bool) -> usize {
    let mut i = open + 1;
    while let Some(&c) = b.get(i) {
        if backslash && c == b'\\' {
            i += 2;
        } else if c == quote {
            if b.get(i + 1) != Some(&quote) {
                return i + 1;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    b.len()
}

/// The end of a string constant whose opening `'` is at `open`, with the constants that
/// continue it.
fn string_end(b: &[u8], open: usize, backslash: bool) -> usize {
    let mut end = quoted_end(b, open, b'\'', backslash);
    while let Some(reopen) = continuation(b, end) {
        end = quoted_end(b, reopen, b'\'', backslash);
    }
    end
}

/// Where a string constant that ended at `end` goes on: PostgreSQL reads `'foo'`, whitespace
/// holding at least one line end (and `--` comments), then `'bar'` as the one constant
/// `'foobar'`. The position of the next opening quote, when there is one.
fn continuation(b: &[u8], mut i: usize) -> Option<usize> {
    let mut newline = false;
    loop {
        match *b.get(i)? {
            b'\n' | b'\r' => {
                newline = true;
                i += 1;
            }
            c if is_space(c) => i += 1,
            b'-' if b.get(i + 1) == Some(&b'-') => i = run(b, i, |c| c != b'\n' && c != b'\r'),
            b'\'' if newline => return Some(i),
            _ => return None,
        }
    }
}

/// The end of a `/* */` comment opened at `start`, counting nested comments.
fn block_comment_end(b: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i < b.len() {
        if b[i..].starts_with(b"/*") {
            depth += 1;
            i += 2;
        } else if b[i..].starts_with(b"*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

/// The end of the `$tag$` or `$$` opening at `open`, when there is one (a tag is an
/// identifier without `$`).
fn dollar_tag_end(b: &[u8], open: usize) -> Option<usize> {
    match b.get(open + 1) {
        Some(b'$') => return Some(open + 2),
        Some(&c) if is_ident_start(c) => {}
        _ => return None,
    }
    let end = run(b, open + 1, |c| is_ident_start(c) || c.is_ascii_digit());
    (b.get(end) == Some(&b'$')).then_some(end + 1)
}

/// The end of a dollar-quoted string whose tag spans `open..tag_end`: just past the next
/// occurrence of the same tag, or the end of the input.
fn dollar_quote_end(b: &[u8], open: usize, tag_end: usize) -> usize {
    let tag = &b[open..tag_end];
    b[tag_end..]
        .windows(tag.len())
        .position(|w| w == tag)
        .map_or(b.len(), |n| tag_end + n + tag.len())
}

/// The end of the digits from `from`, single `_` allowed between two digits (`1_000`).
fn digits_end(b: &[u8], from: usize, is_digit: impl Fn(u8) -> bool) -> usize {
    let digit = |i: usize| b.get(i).is_some_and(|&c| is_digit(c));
    let mut i = from;
    while digit(i) || (i > from && b.get(i) == Some(&b'_') && digit(i + 1)) {
        i += 1;
    }
    i
}

fn decimal_end(b: &[u8], from: usize) -> usize {
    digits_end(b, from, |c| c.is_ascii_digit())
}

/// The end of the number starting at `start` (a digit, or a `.` before a digit).
fn number_end(b: &[u8], start: usize) -> usize {
    let radix: Option<fn(u8) -> bool> =
        match (b[start], b.get(start + 1).map(u8::to_ascii_lowercase)) {
            (b'0', Some(b'x')) => Some(|c: u8| c.is_ascii_hexdigit()),
            (b'0', Some(b'o')) => Some(|c: u8| matches!(c, b'0'..=b'7')),
            (b'0', Some(b'b')) => Some(|c: u8| matches!(c, b'0' | b'1')),
            _ => None,
        };
    if let Some(is_digit) = radix {
        // `0x_1F` allows a `_` right after the prefix too.
        let from = start + 2 + usize::from(b.get(start + 2) == Some(&b'_'));
        let end = digits_end(b, from, is_digit);
        if end > from {
            return junk_end(b, end);
        }
    }
    let mut i = decimal_end(b, start);
    // `1..10` is `1` and `..`.
    if b.get(i) == Some(&b'.') && b.get(i + 1) != Some(&b'.') {
        i = decimal_end(b, i + 1);
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(b.get(i + 1), Some(b'+' | b'-')));
        let exponent = decimal_end(b, i + 1 + sign);
        if exponent > i + 1 + sign {
            i = exponent;
        }
    }
    junk_end(b, i)
}

/// `end`, or the end of the identifier that directly follows a number at `end` (`1abc`: one
/// token, which PostgreSQL rejects as trailing junk).
fn junk_end(b: &[u8], end: usize) -> usize {
    if b.get(end).is_some_and(|&c| is_ident_start(c)) {
        run(b, end, is_ident_cont)
    } else {
        end
    }
}

/// The end of the operator starting at `start`.
fn operator_end(b: &[u8], start: usize) -> usize {
    let mut end = run(b, start, |c| OP_CHARS.contains(&c));
    // A comment start inside ends the operator.
    if let Some(n) = b[start..end]
        .windows(2)
        .position(|w| w == b"--" || w == b"/*")
    {
        end = start + n;
    }
    // `=-` is `=` and `-`; `?-` stays one operator.
    while end - start > 1
        && matches!(b[end - 1], b'+' | b'-')
        && !b[start..end - 1].iter().any(|c| b"~!@#^&|`?%".contains(c))
    {
        end -= 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn significant(sql: &str) -> Vec<(TokenKind, &str)> {
        tokens(sql)
            .filter(|t| !t.is_trivia())
            .map(|t| (t.kind, t.text))
            .collect()
    }

    fn all(sql: &str) -> Vec<(TokenKind, &str)> {
        tokens(sql).map(|t| (t.kind, t.text)).collect()
    }

    use StringKind::*;
    use TokenKind::{
        BlockComment, LineComment, Number, Operator, Other, Parameter, Punctuation, QuotedIdent,
        Whitespace, Word,
    };
    const STR: TokenKind = TokenKind::String(Standard);

    #[test]
    fn a_word_ending_in_a_prefix_letter_before_a_quote_is_a_word_and_a_plain_string() {
        for word in [
            "date", "type", "name", "time", "some", "e2e", "pub", "tab", "ax", "box", "menu",
            "you", "an", "in",
        ] {
            let sql = format!("{word}'a\\'");
            assert_eq!(
                significant(&sql),
                [(Word, word), (STR, "'a\\'")],
                "{sql}: a backslash does not escape in a plain string"
            );
        }
        assert_eq!(
            significant("select date'2024-01-01'::date"),
            [
                (Word, "select"),
                (Word, "date"),
                (STR, "'2024-01-01'"),
                (Punctuation, "::"),
                (Word, "date"),
            ]
        );
    }

    #[test]
    fn a_prefix_letter_where_a_token_starts_makes_a_special_string() {
        for (sql, kind) in [
            ("E'a\\'b'", Escape),
            ("e'a\\'b'", Escape),
            ("B'1010'", Bit),
            ("b'1'", Bit),
            ("X'1F'", Hex),
            ("x'1f'", Hex),
            ("N'abc'", National),
            ("n'a''b'", National),
            ("U&'d\\0061t\\+000061'", Unicode),
            ("u&'x'", Unicode),
        ] {
            assert_eq!(all(sql), [(TokenKind::String(kind), sql)], "{sql}");
        }
        // After an operator or a parenthesis, the letter starts a token.
        assert_eq!(
            significant("(e'\\'')||x'0'"),
            [
                (Punctuation, "("),
                (TokenKind::String(Escape), "e'\\''"),
                (Punctuation, ")"),
                (Operator, "||"),
                (TokenKind::String(Hex), "x'0'"),
            ]
        );
        // `U&` not before a quote is the word `U` and the operator `&`.
        assert_eq!(
            significant("U&x"),
            [(Word, "U"), (Operator, "&"), (Word, "x")]
        );
    }

    #[test]
    fn escape_strings_take_backslash_escapes_and_doubled_quotes() {
        assert_eq!(
            significant(r"E'\'' , E'it''s', E'\\', E'a\'b'"),
            [
                (TokenKind::String(Escape), r"E'\''"),
                (Punctuation, ","),
                (TokenKind::String(Escape), "E'it''s'"),
                (Punctuation, ","),
                (TokenKind::String(Escape), r"E'\\'"),
                (Punctuation, ","),
                (TokenKind::String(Escape), r"E'a\'b'"),
            ]
        );
    }

    #[test]
    fn plain_strings_double_their_quotes_and_keep_backslashes() {
        assert_eq!(
            significant(r"'it''s' 'a\' 'b'"),
            [(STR, "'it''s'"), (STR, r"'a\'"), (STR, "'b'")]
        );
        assert_eq!(significant("''''"), [(STR, "''''")]);
        assert_eq!(significant("'' ''"), [(STR, "''"), (STR, "''")]);
    }

    #[test]
    fn quoted_identifiers_and_unicode_quoted_identifiers() {
        assert_eq!(
            significant(r#""a ""b"" c".U&"d\0061t" UESCAPE '!'"#),
            [
                (QuotedIdent, r#""a ""b"" c""#),
                (Punctuation, "."),
                (QuotedIdent, r#"U&"d\0061t""#),
                (Word, "UESCAPE"),
                (STR, "'!'"),
            ]
        );
        assert_eq!(
            significant(r#""a\"b"#),
            [(QuotedIdent, r#""a\""#), (Word, "b")]
        );
    }

    #[test]
    fn strings_separated_by_a_line_end_are_one_constant() {
        assert_eq!(all("'a'\n'b'"), [(STR, "'a'\n'b'")]);
        assert_eq!(
            all("'a' -- c\n  -- d\n 'b' 'c'"),
            [
                (STR, "'a' -- c\n  -- d\n 'b'"),
                (Whitespace, " "),
                (STR, "'c'")
            ]
        );
        // The continuation keeps the escapes of the first part.
        assert_eq!(
            all("E'a'\n'\\'x'"),
            [(TokenKind::String(Escape), "E'a'\n'\\'x'")]
        );
        assert_eq!(
            significant("'a' 'b'"),
            [(STR, "'a'"), (STR, "'b'")],
            "no line end, no continuation"
        );
        assert_eq!(
            all("'a'\n"),
            [(STR, "'a'"), (Whitespace, "\n")],
            "no quote after the line end"
        );
    }

    #[test]
    fn dollar_quotes_parameters_and_dollars_in_words() {
        assert_eq!(
            significant("$$a'b$$ $fn$ $$ $f $fn$ $1 $12 a$b$c $ $é$x$é$ $→$y$→$"),
            [
                (TokenKind::String(Dollar), "$$a'b$$"),
                (TokenKind::String(Dollar), "$fn$ $$ $f $fn$"),
                (Parameter, "$1"),
                (Parameter, "$12"),
                (Word, "a$b$c"),
                (Other, "$"),
                (TokenKind::String(Dollar), "$é$x$é$"),
                (TokenKind::String(Dollar), "$→$y$→$"),
            ]
        );
        assert_eq!(
            significant("$Tag$ $tag$ $Tag$"),
            [(TokenKind::String(Dollar), "$Tag$ $tag$ $Tag$")],
            "tags are case-sensitive"
        );
        assert_eq!(
            significant("$1$$x$$"),
            [(Parameter, "$1"), (TokenKind::String(Dollar), "$$x$$")]
        );
        assert_eq!(
            significant("$a1$ x $a1$ $_$y$_$"),
            [
                (TokenKind::String(Dollar), "$a1$ x $a1$"),
                (TokenKind::String(Dollar), "$_$y$_$"),
            ]
        );
        assert_eq!(
            significant("$1$a"),
            [(Parameter, "$1"), (Other, "$"), (Word, "a")]
        );
    }

    #[test]
    fn comments_nest_and_do_not_hide_inside_strings() {
        assert_eq!(
            all("/* a /* b */ c */x-- d\r\n'--e' \"/*\""),
            [
                (BlockComment, "/* a /* b */ c */"),
                (Word, "x"),
                (LineComment, "-- d"),
                (Whitespace, "\r\n"),
                (STR, "'--e'"),
                (Whitespace, " "),
                (QuotedIdent, "\"/*\""),
            ]
        );
        assert_eq!(all("/* a /* b */"), [(BlockComment, "/* a /* b */")]);
        assert_eq!(all("--"), [(LineComment, "--")]);
    }

    #[test]
    fn line_comments_skip_strings() {
        let found: Vec<_> = tokens("select '-- no' -- yes\n/* -- no */ --last")
            .filter(|t| t.kind == LineComment)
            .map(|t| (t.offset, &t.text[2..]))
            .collect();
        assert_eq!(found, [(15, " yes"), (34, "last")]);
    }

    #[test]
    fn numbers() {
        for number in [
            "0",
            "42",
            "1_000",
            "1.5",
            ".5",
            "1.",
            "1e5",
            "1E+5",
            "1.5e-3",
            ".5e10",
            "0x1F",
            "0X_ff",
            "0o17",
            "0b101",
            "1_000.000_1",
        ] {
            assert_eq!(all(number), [(Number, number)], "{number}");
        }
        assert_eq!(
            significant("1..10 1.2.3 1e 1_ 1abc"),
            [
                (Number, "1"),
                (Punctuation, ".."),
                (Number, "10"),
                (Number, "1.2"),
                (Number, ".3"),
                (Number, "1e"),
                (Number, "1_"),
                (Number, "1abc"),
            ]
        );
        assert_eq!(
            significant("1e+ 1$$x$$"),
            [
                (Number, "1e"),
                (Operator, "+"),
                (Number, "1"),
                (TokenKind::String(Dollar), "$$x$$"),
            ]
        );
        assert_eq!(
            significant("t.a5"),
            [(Word, "t"), (Punctuation, "."), (Word, "a5")]
        );
    }

    #[test]
    fn operators_and_punctuation() {
        assert_eq!(
            significant("a::int[] <> b := c => d ->> 'e' @> f || g"),
            [
                (Word, "a"),
                (Punctuation, "::"),
                (Word, "int"),
                (Punctuation, "["),
                (Punctuation, "]"),
                (Operator, "<>"),
                (Word, "b"),
                (Punctuation, ":="),
                (Word, "c"),
                (Operator, "=>"),
                (Word, "d"),
                (Operator, "->>"),
                (STR, "'e'"),
                (Operator, "@>"),
                (Word, "f"),
                (Operator, "||"),
                (Word, "g"),
            ]
        );
        // A comment start ends an operator; a trailing `+`/`-` leaves an SQL-only operator.
        assert_eq!(
            all("*/*c*/=-1 @- +--x"),
            [
                (Operator, "*"),
                (BlockComment, "/*c*/"),
                (Operator, "="),
                (Operator, "-"),
                (Number, "1"),
                (Whitespace, " "),
                (Operator, "@-"),
                (Whitespace, " "),
                (Operator, "+"),
                (LineComment, "--x"),
            ]
        );
        assert_eq!(
            significant("a[1:2] \\ { }"),
            [
                (Word, "a"),
                (Punctuation, "["),
                (Number, "1"),
                (Punctuation, ":"),
                (Number, "2"),
                (Punctuation, "]"),
                (Other, "\\"),
                (Other, "{"),
                (Other, "}"),
            ]
        );
    }

    #[test]
    fn unterminated_quotes_and_comments_run_to_the_end() {
        for sql in [
            "'abc",
            "E'abc\\",
            "E'\\",
            "\"abc",
            "U&\"abc",
            "$$abc",
            "$t$abc$t",
            "/* abc /* */",
            "'a'\n'b",
        ] {
            assert_eq!(all(sql).len(), 1, "{sql}");
        }
    }

    #[test]
    fn offsets_and_helpers() {
        let sql = "SELECT ( 1 )";
        let t: Vec<Token<'_>> = tokens(sql).collect();
        assert_eq!(t[2].offset, 7);
        assert_eq!(t[2].end(), 8);
        assert!(t[0].is_keyword("select") && t[0].is_keyword("SeLeCt"));
        assert!(!t[2].is_keyword("("));
        assert!(t[2].is_symbol("(") && t[1].is_trivia());
        let quoted = tokens("\"select\"").next().unwrap();
        assert!(
            !quoted.is_keyword("select"),
            "a quoted identifier is no key word"
        );
    }

    proptest! {
        #[test]
        fn tokens_rejoined_are_the_input(sql in "\\PC{0,64}") {
            let mut at = 0;
            let mut rejoined = String::new();
            for t in tokens(&sql) {
                prop_assert_eq!(t.offset, at);
                prop_assert!(!t.text.is_empty());
                at = t.end();
                rejoined.push_str(t.text);
            }
            prop_assert_eq!(rejoined, sql);
        }

        #[test]
        fn tokens_rejoined_are_the_input_on_sql_characters(
            sql in "[a-zA-Z0-9_$'\"();:.,\\-+*/=<>&|@!?%^~`\\\\ \n\r\té→]{0,64}"
        ) {
            prop_assert_eq!(tokens(&sql).map(|t| t.text).collect::<String>(), sql);
        }
    }
}
