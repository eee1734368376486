//! Quoting for the few places where SQL text is assembled: identifiers (trek's schema) and the
//! literals of history rows sent in the same message as a migration (one round trip).

/// Quotes an identifier: `trek` → `"trek"`, `we"ird` → `"we""ird"`.
pub fn quote_ident(ident: &str) -> String {
    let mut out = String::with_capacity(ident.len() + 2);
    out.push('"');
    for c in ident.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Quotes a string literal the way PostgreSQL's own `quote_literal` does: as an `E'…'` string
/// with `\` and `'` doubled, which is correct whatever `standard_conforming_strings` says.
///
/// trek sends a migration's history row in the same simple-query message as the migration so
/// that applying costs one round trip; the simple-query protocol has no bind parameters, so
/// every value of that row goes through this one function.
pub fn quote_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 4);
    out.push_str("E'");
    for c in value.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            // NUL cannot be stored in a text value; drop it rather than break the message.
            '\0' => {}
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Quotes an optional literal: `NULL` for `None`.
pub fn quote_nullable(value: Option<&str>) -> String {
    value.map_or_else(|| "NULL".to_owned(), quote_literal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_and_inner_quotes_doubled() {
        assert_eq!(quote_ident("trek"), "\"trek\"");
        assert_eq!(quote_ident("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(quote_ident("Upper Case"), "\"Upper Case\"");
    }

    #[test]
    fn literals_escape_quotes_and_backslashes() {
        assert_eq!(quote_literal("it's"), "E'it''s'");
        assert_eq!(quote_literal("a\\b"), "E'a\\\\b'");
        assert_eq!(quote_literal("$$;--"), "E'$$;--'");
        assert_eq!(quote_literal("nul\0"), "E'nul'");
        assert_eq!(quote_nullable(None), "NULL");
    }
}
