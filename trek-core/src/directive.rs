//! `-- trek:` directives at the top of a script.

use std::borrow::Cow;
use std::fmt;

use crate::lex::{tokens, TokenKind};
use crate::{Kind, SourceErrorKind};

/// The directives found in a script's leading comment lines.
///
/// Directives are `-- trek:NAME [ARGUMENT]` lines before the first statement:
/// `no_transaction`, `lock_timeout 5s`, `statement_timeout 10min`, and for repeatables
/// `run always`. Timeouts are a positive integer with an optional unit `ms`, `s`, `min`, `h` or
/// `d` (no unit means milliseconds, as in PostgreSQL), kept as written and handed to PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Directives {
    /// `-- trek:no_transaction`: run statement by statement outside a transaction.
    pub no_transaction: bool,
    /// `-- trek:lock_timeout 5s`.
    pub lock_timeout: Option<Cow<'static, str>>,
    /// `-- trek:statement_timeout 10min`.
    pub statement_timeout: Option<Cow<'static, str>>,
    /// `-- trek:run always` (repeatables only): run after every run that applied anything.
    pub run_always: bool,
}

impl Directives {
    /// No directives: the defaults.
    pub const NONE: Directives = Directives {
        no_transaction: false,
        lock_timeout: None,
        statement_timeout: None,
        run_always: false,
    };
}

/// A problem with a directive, at a line of its script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectiveError {
    /// The 1-based line of the directive.
    pub line: usize,
    /// What is wrong: one of the directive variants of [`SourceErrorKind`]
    /// (`UnknownDirective`, `BadDirectiveArgument`, `DuplicateDirective`,
    /// `MisplacedDirective`, `RunAlwaysNotRepeatable`).
    pub kind: SourceErrorKind,
}

impl fmt::Display for DirectiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.kind)
    }
}

impl std::error::Error for DirectiveError {}

const DURATION: &str =
    "a positive whole number with an optional unit `ms`, `s`, `min`, `h` or `d` (no unit means milliseconds), like `5s`, at most 2147483647ms (about 24 days)";

/// Parses the directives of a script of `kind` (down scripts are parsed with the kind of their
/// up script).
///
/// Directives are `-- trek:NAME [ARGUMENT]` lines (`--trek:NAME` too) among the leading lines
/// of the script: blank lines and other `--` comments may come before and between them; the
/// first other line (a statement, a `/* */` comment) ends them. A leading byte-order mark is
/// skipped. Timeouts are kept as written.
///
/// # Errors
/// Every problem in the script, in line order: an unknown directive, a missing, extra or
/// malformed argument, a directive given twice, `run always` outside a repeatable, and a
/// `-- trek:` comment anywhere after the leading lines (outside strings), which would
/// otherwise be silently ignored.
pub fn parse(sql: &str, kind: Kind) -> Result<Directives, Vec<DirectiveError>> {
    let sql = sql.strip_prefix('\u{feff}').unwrap_or(sql);
    let mut directives = Directives::NONE;
    let mut errors = Vec::new();
    let mut seen: Vec<(&str, usize)> = Vec::new();
    // The leading lines are whitespace and `--` comments; the first other token ends them.
    let mut header = true;
    let mut line_no = 1;
    for token in tokens(sql) {
        let line = line_no;
        line_no += token.text.matches('\n').count();
        match token.kind {
            TokenKind::Whitespace => continue,
            TokenKind::LineComment => {}
            _ => {
                header = false;
                continue;
            }
        }
        let Some(body) = directive_body(&token.text[2..]) else {
            continue;
        };
        if !header {
            errors.push(DirectiveError {
                line,
                kind: SourceErrorKind::MisplacedDirective {
                    directive: body
                        .split(char::is_whitespace)
                        .next()
                        .unwrap_or("")
                        .to_owned(),
                },
            });
            continue;
        }
        let (name, argument) = match body.split_once(char::is_whitespace) {
            Some((name, argument)) => (name, Some(argument.trim())),
            None => (body, None),
        };
        let mut error = |kind| errors.push(DirectiveError { line, kind });
        if let Some(&(_, first_line)) = seen.iter().find(|(n, _)| *n == name) {
            error(SourceErrorKind::DuplicateDirective {
                directive: name.to_owned(),
                first_line,
            });
            continue;
        }
        let bad_argument = |expected| SourceErrorKind::BadDirectiveArgument {
            directive: name.to_owned(),
            argument: argument.map(str::to_owned),
            expected,
        };
        match name {
            "no_transaction" => match argument {
                None => directives.no_transaction = true,
                Some(_) => error(bad_argument("no argument")),
            },
            "lock_timeout" | "statement_timeout" => match argument.filter(|a| is_duration(a)) {
                Some(duration) => {
                    let duration = Some(Cow::Owned(duration.to_owned()));
                    if name == "lock_timeout" {
                        directives.lock_timeout = duration;
                    } else {
                        directives.statement_timeout = duration;
                    }
                }
                None => error(bad_argument(DURATION)),
            },
            "run" => match argument {
                Some("always") if kind == Kind::Repeatable => directives.run_always = true,
                Some("always") => error(SourceErrorKind::RunAlwaysNotRepeatable { kind }),
                _ => error(bad_argument("`always`")),
            },
            _ => error(SourceErrorKind::UnknownDirective {
                name: name.to_owned(),
            }),
        }
        seen.push((name, line));
    }
    if errors.is_empty() {
        Ok(directives)
    } else {
        errors.sort_by_key(|e| e.line);
        Err(errors)
    }
}

/// The text after `trek:` when a `--` comment's text (after the `--`) is a directive.
fn directive_body(comment: &str) -> Option<&str> {
    comment.trim_start().strip_prefix("trek:").map(str::trim)
}

/// `5`, `250ms`, `5s`, `10min`, `2h`, `1d`: positive, and at most `i32::MAX` milliseconds (what
/// PostgreSQL accepts for a timeout).
fn is_duration(text: &str) -> bool {
    let digits_end = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits_end);
    let per_unit: u64 = match unit {
        "" | "ms" => 1,
        "s" => 1_000,
        "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return false,
    };
    match number.parse::<u64>() {
        Ok(n) => {
            n > 0
                && n.checked_mul(per_unit)
                    .is_some_and(|ms| ms <= i32::MAX as u64)
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str, kind: Kind) -> Vec<(usize, SourceErrorKind)> {
        match parse(sql, kind) {
            Ok(d) => panic!("expected errors, got {d:?}"),
            Err(errors) => errors.into_iter().map(|e| (e.line, e.kind)).collect(),
        }
    }

    #[test]
    fn no_directives_is_the_default() {
        assert_eq!(parse("select 1;", Kind::Versioned), Ok(Directives::NONE));
        assert_eq!(parse("", Kind::Seed), Ok(Directives::NONE));
        assert_eq!(
            parse("-- trek is great\nselect 1;", Kind::Seed),
            Ok(Directives::NONE)
        );
    }

    #[test]
    fn directives_among_leading_comments_and_blank_lines() {
        let sql = "\u{feff}-- Adds indexes.\n\n-- trek:no_transaction\r\n--trek:lock_timeout 5s\n  -- trek:statement_timeout   10min  \n\nCREATE INDEX CONCURRENTLY i ON t (c);\n";
        let d = parse(sql, Kind::Versioned).expect("valid");
        assert!(d.no_transaction);
        assert_eq!(d.lock_timeout.as_deref(), Some("5s"));
        assert_eq!(d.statement_timeout.as_deref(), Some("10min"));
        assert!(!d.run_always);
    }

    #[test]
    fn run_always_is_for_repeatables_only() {
        let d = parse("-- trek:run always\nselect 1;", Kind::Repeatable).expect("valid");
        assert!(d.run_always);
        assert_eq!(
            kinds("-- trek:run always\nselect 1;", Kind::Versioned),
            [(
                1,
                SourceErrorKind::RunAlwaysNotRepeatable {
                    kind: Kind::Versioned
                }
            )]
        );
        assert!(matches!(
            &kinds("-- trek:run sometimes", Kind::Repeatable)[..],
            [(1, SourceErrorKind::BadDirectiveArgument { .. })]
        ));
    }

    #[test]
    fn durations() {
        for ok in ["1", "250ms", "5s", "10min", "2h", "1d", "24d", "2147483647"] {
            assert!(is_duration(ok), "{ok}");
        }
        for bad in [
            "",
            "0",
            "0s",
            "-1s",
            "5 s",
            "5sec",
            "1.5s",
            "s",
            "25d",
            "2147483648",
            "99999999999999999999999",
        ] {
            assert!(!is_duration(bad), "{bad}");
        }
    }

    #[test]
    fn bad_arguments_are_errors() {
        assert_eq!(
            kinds("-- trek:lock_timeout\n-- trek:statement_timeout soon\n-- trek:no_transaction please", Kind::Versioned),
            [
                (1, SourceErrorKind::BadDirectiveArgument { directive: "lock_timeout".into(), argument: None, expected: DURATION }),
                (2, SourceErrorKind::BadDirectiveArgument { directive: "statement_timeout".into(), argument: Some("soon".into()), expected: DURATION }),
                (3, SourceErrorKind::BadDirectiveArgument { directive: "no_transaction".into(), argument: Some("please".into()), expected: "no argument" }),
            ]
        );
    }

    #[test]
    fn unknown_and_duplicate_directives_are_errors() {
        assert_eq!(
            kinds("-- trek:no_transactions\n-- trek:\n-- trek:lock_timeout 1s\n-- trek:lock_timeout 2s\nselect 1;", Kind::Versioned),
            [
                (1, SourceErrorKind::UnknownDirective { name: "no_transactions".into() }),
                (2, SourceErrorKind::UnknownDirective { name: String::new() }),
                (4, SourceErrorKind::DuplicateDirective { directive: "lock_timeout".into(), first_line: 3 }),
            ]
        );
    }

    #[test]
    fn directives_after_the_first_statement_are_misplaced() {
        let sql = "-- trek:no_transaction\nselect 1;\n-- trek:lock_timeout 5s\nselect '\n-- trek:in a string\n'; /* -- trek:in a comment */ select 2; -- trek:run always\n";
        assert_eq!(
            kinds(sql, Kind::Versioned),
            [
                (
                    3,
                    SourceErrorKind::MisplacedDirective {
                        directive: "lock_timeout".into()
                    }
                ),
                (
                    6,
                    SourceErrorKind::MisplacedDirective {
                        directive: "run".into()
                    }
                ),
            ]
        );
        assert_eq!(
            kinds(
                "/* header */\n-- trek:no_transaction\nselect 1;",
                Kind::Versioned
            ),
            [(
                2,
                SourceErrorKind::MisplacedDirective {
                    directive: "no_transaction".into()
                }
            )]
        );
    }
}
