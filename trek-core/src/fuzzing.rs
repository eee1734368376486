//! The properties the fuzz targets check (in `fuzz/`, run with `cargo +nightly fuzz run
//! split`), kept here so a stable test can check them too, on the seed corpus and on inputs
//! made from it (`trek-core/tests/fuzz_corpus.rs`). Each function panics when a property
//! fails; any other panic inside trek-core is a bug as well.

use crate::directive;
use crate::file_name;
use crate::lex::tokens;
use crate::split::split;
use crate::{Kind, Version};

/// The lexer and the statement splitter: the tokens follow each other without a gap and,
/// re-joined, are the input; the statements are slices of the input in order, without
/// overlap; what lies between them holds no statement (only whitespace, comments and `;`); so
/// the statements and the gaps, re-joined, are the input. Neither panics.
pub fn check_split(input: &[u8]) {
    let Ok(sql) = std::str::from_utf8(input) else {
        return;
    };
    let mut end = 0;
    for token in tokens(sql) {
        assert_eq!(token.offset, end, "a gap or an overlap before {token:?}");
        assert!(!token.text.is_empty(), "an empty token at {end}");
        end = token.end();
    }
    assert_eq!(end, sql.len(), "the tokens stop before the end");
    let statements = split(sql);
    let mut rejoined = String::with_capacity(sql.len());
    let mut at = 0;
    for statement in &statements {
        assert!(statement.offset >= at, "statements overlap or go back");
        let end = statement.offset + statement.text.len();
        assert_eq!(
            &sql[statement.offset..end],
            statement.text,
            "text is not the slice at its offset"
        );
        assert!(!statement.text.is_empty(), "an empty statement");
        let gap = &sql[at..statement.offset];
        assert!(split(gap).is_empty(), "a statement in the gap {gap:?}");
        rejoined.push_str(gap);
        rejoined.push_str(statement.text);
        at = end;
    }
    let tail = &sql[at..];
    assert!(split(tail).is_empty(), "a statement in the tail {tail:?}");
    rejoined.push_str(tail);
    assert_eq!(rejoined, sql, "the pieces re-joined are not the input");
}

/// The file-name parser: never panics; a parsed version prints as written and parses back to
/// the same version.
pub fn check_file_name(input: &[u8]) {
    let Ok(name) = std::str::from_utf8(input) else {
        return;
    };
    for kind in [Kind::Versioned, Kind::Repeatable, Kind::Seed] {
        if let Ok(parsed) = file_name::parse(name, kind) {
            if let Some(version) = parsed.version {
                assert!(
                    name.starts_with(version.as_str()),
                    "{name}: version {version}"
                );
                assert_eq!(Version::parse(version.as_str()).as_ref(), Ok(&version));
            }
        }
    }
}

/// The directive parser: never panics, and is deterministic.
pub fn check_directives(input: &[u8]) {
    let Ok(sql) = std::str::from_utf8(input) else {
        return;
    };
    for kind in [Kind::Versioned, Kind::Repeatable, Kind::Seed] {
        let first = directive::parse(sql, kind);
        let second = directive::parse(sql, kind);
        assert_eq!(first.is_ok(), second.is_ok());
        if let (Ok(a), Ok(b)) = (first, second) {
            assert_eq!(a, b);
        }
    }
}
